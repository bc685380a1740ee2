"""Caching of read-mostly results: keys, the JSON codec, invalidation and cross-machine sync."""
