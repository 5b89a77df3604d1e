"""Step 02 · Tools and content: e-mail streams, content that helps conversion, speed of follow-up."""
