"""fastgd._training (its map is written with the refactor of issue 19)."""
