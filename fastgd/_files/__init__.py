"""fastgd._files (its map is written with the refactor of issue 19)."""
