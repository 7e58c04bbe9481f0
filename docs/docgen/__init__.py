"""Generators of the documentation's generated pages (run by ``docs/gen_pages.py``)."""
