"""Result tables: the CSV schemas (one place), summaries and plots."""
