"""Text handling: language detection, tokenisation (Korean morphemes, English stems), facet splitting."""
