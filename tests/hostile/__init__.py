"""Hostile and broken mail (SPEC section 9): the corpus shared by the tests and bench/hostile_bench.py."""
