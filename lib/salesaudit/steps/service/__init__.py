"""Step 06 · Customer service: repeat purchases, referrals, tickets, NPS."""
