"""Demand matching: requirement facets, matches with evidence, convergence bundles."""
