"""Pytest settings for the frameworks' own tests, run in their environments."""


def pytest_configure(config):
    # Paddle warns on import that the compiler cache `ccache` is missing; it
    # only matters for building C++ extensions, which we never do.
    config.addinivalue_line(
        "filterwarnings", "ignore:No ccache found:UserWarning"
    )
    # MXNet 1.9 (its last release) still uses NumPy's deprecated aliases such
    # as np.bool; NumPy 1.23 warns and NumPy 1.24 removed them.
    config.addinivalue_line(
        "filterwarnings", "ignore::DeprecationWarning:mxnet.*"
    )
