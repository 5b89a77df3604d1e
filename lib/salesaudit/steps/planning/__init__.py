"""Step 07 · Spend planning: ROI by channel, response curves, what-if allocation."""
