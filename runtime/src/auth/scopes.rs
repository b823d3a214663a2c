//! Scope hierarchy (`SCOPE_IMPLIES`): a broader scope may satisfy narrower ones, e.g.
//! `write:pets=read:pets, admin=write:pets users:read`. Rules are applied transitively to the
//! scopes of a verified token, so tools keep declaring exactly what they need.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ConfigError;

const VAR: &str = "SCOPE_IMPLIES";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeImplications {
    /// broad scope → the scopes it directly implies
    rules: BTreeMap<String, BTreeSet<String>>,
}

impl ScopeImplications {
    /// `broad=narrow [narrow…]`, rules separated by `,` or `;`. Empty or unset: no rules.
    pub fn parse(raw: Option<&str>) -> Result<Self, ConfigError> {
        let mut rules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for rule in raw
            .unwrap_or("")
            .split([',', ';'])
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            let Some((broad, narrow)) = rule.split_once('=') else {
                return Err(error(format!(
                    "{rule:?} is not a rule like write:pets=read:pets"
                )));
            };
            let broad = broad.trim();
            let narrow: BTreeSet<String> = narrow.split_whitespace().map(str::to_owned).collect();
            if broad.is_empty() || broad.contains(char::is_whitespace) || narrow.is_empty() {
                return Err(error(format!(
                    "{rule:?} needs one scope before `=` and at least one after it"
                )));
            }
            rules.entry(broad.to_owned()).or_default().extend(narrow);
        }
        Ok(Self { rules })
    }

    /// `SCOPE_IMPLIES` when set and not empty, else the rules baked in at generation.
    /// `SCOPE_IMPLIES` as `lookup` gives it, else the hierarchy baked in at generation.
    pub fn from_lookup(
        baked: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let set = lookup(VAR).filter(|v| !v.trim().is_empty());
        Self::parse(Some(set.as_deref().unwrap_or(baked)))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Adds every scope the granted ones imply, following chains (cycles are harmless).
    pub fn expand(&self, scopes: &mut BTreeSet<String>) {
        let mut pending: Vec<String> = scopes.iter().cloned().collect();
        while let Some(scope) = pending.pop() {
            for implied in self.rules.get(&scope).into_iter().flatten() {
                if scopes.insert(implied.clone()) {
                    pending.push(implied.clone());
                }
            }
        }
    }
}

fn error(message: String) -> ConfigError {
    ConfigError { var: VAR, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn expands_transitively_and_one_way() {
        let rules =
            ScopeImplications::parse(Some("admin=write:pets users; write:pets=read:pets")).unwrap();
        let mut scopes = set(&["admin"]);
        rules.expand(&mut scopes);
        assert_eq!(scopes, set(&["admin", "read:pets", "users", "write:pets"]));
        let mut narrow = set(&["read:pets"]);
        rules.expand(&mut narrow);
        assert_eq!(narrow, set(&["read:pets"]));
        let cyclic = ScopeImplications::parse(Some("a=b,b=a")).unwrap();
        let mut scopes = set(&["a"]);
        cyclic.expand(&mut scopes);
        assert_eq!(scopes, set(&["a", "b"]));
    }

    #[test]
    fn bad_rules_name_the_variable() {
        assert!(ScopeImplications::parse(None).unwrap().is_empty());
        assert!(ScopeImplications::parse(Some(" ")).unwrap().is_empty());
        for bad in ["write:pets", "=read", "write=", "a b=c"] {
            let err = ScopeImplications::parse(Some(bad)).unwrap_err();
            assert_eq!(err.var, VAR, "{bad}");
        }
    }
}
