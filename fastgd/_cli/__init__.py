"""fastgd._cli (its map is written with the refactor of issue 19)."""
