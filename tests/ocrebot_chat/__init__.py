"""Tests of `ocrebot chat`, the terminal chat."""
