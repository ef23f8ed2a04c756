"""Tests of the channel-agnostic dialog engine."""
