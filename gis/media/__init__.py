"""Photos on incidents (附件): cleaned of metadata, kept in PostgreSQL, shown to those
who may see them."""
