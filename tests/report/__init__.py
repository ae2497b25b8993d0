"""Tests of the weekly digest: frames, arithmetic and rendering."""
