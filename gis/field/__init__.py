"""Grid workers (网格员) in the field: the grids a worker's token serves, the checks that keep
a worker to them, and what the field page reads (who am I, my area, my tasks)."""
