//! The generated project's `Cargo.lock`. Every generated project has the same dependencies,
//! so one lock file, resolved once for a placeholder package, serves all of them: the root
//! package entry is renamed and put back where Cargo sorts it, so `cargo build --locked`
//! accepts the file as is.

pub const PLACEHOLDER: &str = "mcp-gen-placeholder";

pub fn for_package(template: &str, name: &str) -> Result<String, String> {
    let start = template
        .find("[[package]]")
        .ok_or_else(|| "the lock template has no packages".to_string())?;
    let (header, body) = template.split_at(start);
    let mut blocks: Vec<String> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(String::from)
        .collect();
    let placeholder_line = format!("name = \"{PLACEHOLDER}\"");
    let root = blocks
        .iter_mut()
        .find(|b| b.lines().nth(1) == Some(placeholder_line.as_str()))
        .ok_or_else(|| format!("the lock template has no `{PLACEHOLDER}` package"))?;
    *root = root.replacen(&placeholder_line, &format!("name = \"{name}\""), 1);
    // Cargo orders packages by name (then version, already in order): a stable sort by
    // name reproduces its order.
    blocks.sort_by(|a, b| package_name(a).cmp(package_name(b)));
    Ok(format!("{header}{}\n", blocks.join("\n\n")))
}

fn package_name(block: &str) -> &str {
    block
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("name = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "# header\nversion = 4\n\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"mcp-gen-placeholder\"\nversion = \"0.1.0\"\ndependencies = [\n \"anyhow\",\n \"zz\",\n]\n\n[[package]]\nname = \"zz\"\nversion = \"1.0.0\"\n";

    #[test]
    fn root_package_is_renamed_and_resorted() {
        let out = for_package(TEMPLATE, "aaa-mcp").unwrap();
        let names: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("name = "))
            .collect();
        assert_eq!(names, ["\"aaa-mcp\"", "\"anyhow\"", "\"zz\""]);
        assert!(out.starts_with("# header\nversion = 4\n\n[[package]]\nname = \"aaa-mcp\""));
        assert!(out.ends_with("version = \"1.0.0\"\n"));
    }

    #[test]
    fn the_real_template_is_usable() {
        let out =
            for_package(super::super::project::LOCK_TEMPLATE, "swagger-petstore-mcp").unwrap();
        assert!(out.contains("name = \"swagger-petstore-mcp\""));
        assert!(!out.contains(PLACEHOLDER));
    }
}
