"""latentplay: study what generative latent spaces learn about labelled image collections."""

__version__ = "0.1.0"
