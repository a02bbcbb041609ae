"""What every router uses: negotiation, links, encodings, problems, deps, pages."""
