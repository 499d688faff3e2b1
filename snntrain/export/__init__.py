"""Exporting trained networks to other tools: NIR graphs (``snntrain-export``; needs the ``nir`` extra)."""
