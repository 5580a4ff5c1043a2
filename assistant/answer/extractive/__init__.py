"""The offline composer: quoted source sentences in fixed frames, chosen by how well they answer the question."""
