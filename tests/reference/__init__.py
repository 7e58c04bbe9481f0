"""Slow, obvious reference implementations (one game at a time, plain Python).

Each one follows the interface of :mod:`social_dilemmas.testing.reference` and is matched
step by step against the batched core with
:func:`social_dilemmas.testing.check_reference_match`.
"""
