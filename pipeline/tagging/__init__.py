"""Claim and entity tagging: who said what, about whom, and how certain."""
