"""The names of the dataset converters and of the resampling filters: what ``latentplay data
convert --help`` lists, kept apart from the converters so that listing them imports nothing."""

CONVERTERS = ("utkface", "fairface", "rfw", "lfw", "morph", "aiface", "celeba", "dsprites", "mpi3d",
              "mnist", "folder")
RESAMPLING_NAMES = ("lanczos", "bicubic", "bilinear", "box", "nearest")
COLUMN_FORMATS = ("morph", "aiface", "folder")  # the converters whose CSV columns --columns names
