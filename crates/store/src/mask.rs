//! Product keys are stored as given (the build needs them) but never shown whole: the
//! API, the logs and the manifests all use this one masking rule.

/// `ABCDE-FGHIJ-KLMNO-PQRST-UVWXY` → `*****-*****-*****-*****-UVWXY`. Anything that does
/// not look like a key is masked completely.
pub fn mask_product_key(key: &str) -> String {
    let groups: Vec<&str> = key.split('-').collect();
    let well_formed = groups.len() == 5
        && groups
            .iter()
            .all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_alphanumeric()));
    if well_formed {
        format!("*****-*****-*****-*****-{}", groups[4])
    } else {
        "*****".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_group_of_a_key_is_shown() {
        assert_eq!(
            mask_product_key("ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"),
            "*****-*****-*****-*****-UVWXY"
        );
        assert_eq!(mask_product_key("short"), "*****");
        assert_eq!(mask_product_key(""), "*****");
        assert_eq!(mask_product_key("ABCDE-FGHIJ-KLMNO-PQRST-UVWXYZ"), "*****");
    }
}
