//! The generated parts of a few projects, kept as golden files by `tests/golden.rs` (which
//! fails when generation changes them; `UPDATE_GOLDEN=1` rewrites them for review) and
//! compiled here against the runtime crate, so a change to the runtime's types that generated
//! code no longer fits fails `cargo test --workspace`.

#[path = "../petstore/src/tools.rs"]
#[rustfmt::skip]
pub mod petstore;

#[path = "../required-headers/src/tools.rs"]
#[rustfmt::skip]
pub mod required_headers;

#[path = "../train-travel/src/tools.rs"]
#[rustfmt::skip]
pub mod train_travel;

#[cfg(test)]
mod tests {
    use mcp_gen_runtime::catalog::Catalog;

    fn check(catalog: &Catalog, tools: usize) {
        assert_eq!(catalog.tools.len(), tools, "{}", catalog.server_name);
        for tool in catalog.tools {
            let input: serde_json::Value = serde_json::from_str(tool.input_schema).unwrap();
            assert_eq!(input["type"], "object", "{}", tool.name);
            if let Some(output) = &tool.output {
                let schema: serde_json::Value = serde_json::from_str(output.schema).unwrap();
                assert_eq!(schema["type"], "object", "{}", tool.name);
            }
        }
    }

    #[test]
    fn the_golden_tool_tables_are_whole() {
        check(&super::petstore::CATALOG, 20);
        check(&super::required_headers::CATALOG, 3);
        check(&super::train_travel::CATALOG, 7);
        let invoice = super::required_headers::CATALOG
            .tools
            .iter()
            .find(|t| t.name == "get_invoice")
            .unwrap();
        assert!(invoice.http.documents_redirects);
    }
}
