"""The intake domain: the assessment, the answer, risk and scope models, safety wording,
situations and the recommendation."""
