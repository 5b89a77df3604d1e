"""Step 05 · Sales effectiveness: per-rep performance, capacity, archetypes."""
