"""Step 01 · Sales process: the funnel, conversion, time in stage, lead volume."""
