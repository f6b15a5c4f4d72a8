"""Polite, guarded HTTP for feeds and articles: SSRF guard, robots.txt, per-host politeness,
timeouts, size caps, charset detection."""
