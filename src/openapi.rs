//! Words of the OpenAPI format that more than one stage reads.

/// The keys of an OpenAPI 3 path item that hold operations, in the order tools are made.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How many operations a path item holds (what leaving it out costs).
pub fn operations_in(item: &serde_json::Value) -> usize {
    METHODS.iter().filter(|m| item.get(**m).is_some()).count()
}
