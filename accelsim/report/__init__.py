"""Reports: console tables, CSV and JSON writers (atomic), plots."""
