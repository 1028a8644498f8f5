"""Demand-side matching helpers: requirement facets of a demand text (``facets.py``) and
convergence bundles of technologies from several institutions over a coverage matrix (``bundles.py``)."""
