//! Words of the OpenAPI format that more than one stage reads.

/// The keys of an OpenAPI 3 path item that hold operations, in the order tools are made.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
