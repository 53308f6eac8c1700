"""`bibench-deploy build`: train, convert, audit (filled in by the build pipeline)."""
