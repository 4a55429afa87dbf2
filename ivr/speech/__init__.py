"""What callers hear: the prompt catalog and the read-back grammar of numbers, amounts and dates."""
