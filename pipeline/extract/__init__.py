"""Article extraction with trafilatura, and the classification of every page's outcome."""
