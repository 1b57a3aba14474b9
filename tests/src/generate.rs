//! Generators of valid specs and data (see the integration tests).
