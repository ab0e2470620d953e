"""Operations on a trained model's latent space."""
