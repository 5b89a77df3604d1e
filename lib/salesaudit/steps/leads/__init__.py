"""Step 03 · Lead quality: value per lead, score bands, the MQL threshold."""
