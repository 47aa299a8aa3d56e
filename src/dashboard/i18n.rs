//! The dashboard's languages: one catalog file per language (`locales/*.toml`, compiled in), the choice
//! from the `herald_lang` cookie or `Accept-Language`, and the lookup templates call.
//!
//! A key missing from a translation falls back to English, and a test keeps every catalog complete.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The languages the dashboard speaks, in the order the switch lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
    De,
    Zh,
}

pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::De, Lang::Zh];

/// The cookie that remembers a choice made with the switch.
pub const COOKIE: &str = "herald_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
            Self::De => "de",
            Self::Zh => "zh",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Fr => "Français",
            Self::De => "Deutsch",
            Self::Zh => "中文",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        ALL.into_iter().find(|lang| lang.code() == primary)
    }

    /// The best language for an `Accept-Language` header: the highest `q` among the ones we speak.
    pub fn negotiate(header: &str) -> Option<Self> {
        let mut best: Option<(f32, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Self::parse(tag)
                && q > 0.0
                && best.is_none_or(|(seen, _)| q > seen)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    pub fn text(self) -> Text {
        Text { lang: self, own: catalog(self), english: catalog(Lang::En) }
    }
}

type Catalog = HashMap<String, String>;

fn parse(source: &str, file: &str) -> Catalog {
    toml::from_str(source).unwrap_or_else(|e| panic!("locales/{file} is not a flat TOML table of strings: {e}"))
}

static CATALOGS: LazyLock<[Catalog; 4]> = LazyLock::new(|| {
    [
        parse(include_str!("../../locales/en.toml"), "en.toml"),
        parse(include_str!("../../locales/fr.toml"), "fr.toml"),
        parse(include_str!("../../locales/de.toml"), "de.toml"),
        parse(include_str!("../../locales/zh.toml"), "zh.toml"),
    ]
});

fn catalog(lang: Lang) -> &'static Catalog {
    &CATALOGS[lang as usize]
}

/// One language's strings, as the templates see them.
#[derive(Clone, Copy)]
pub struct Text {
    pub lang: Lang,
    own: &'static Catalog,
    english: &'static Catalog,
}

impl Text {
    /// The string for `key`, in English if this language lacks it, or the key itself if no catalog has it.
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        self.own.get(key).or_else(|| self.english.get(key)).map_or(key, String::as_str)
    }

    /// The string for `key` with `{}` replaced by `value`.
    pub fn with(&self, key: &str, value: impl std::fmt::Display) -> String {
        self.get(key).replacen("{}", &value.to_string(), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_has_every_english_key_and_no_other() {
        let english = catalog(Lang::En);
        for lang in ALL {
            let own = catalog(lang);
            let mut missing: Vec<_> = english.keys().filter(|k| !own.contains_key(*k)).collect();
            let mut extra: Vec<_> = own.keys().filter(|k| !english.contains_key(*k)).collect();
            missing.sort();
            extra.sort();
            assert!(missing.is_empty() && extra.is_empty(), "{}: missing {missing:?}, extra {extra:?}", lang.code());
        }
    }

    #[test]
    fn accept_language_picks_the_preferred_language_we_speak() {
        assert_eq!(Lang::negotiate("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("ja, zh-CN;q=0.8, de;q=0.9"), Some(Lang::De));
        assert_eq!(Lang::negotiate("ja, pt-BR"), None);
        assert_eq!(Lang::negotiate("de;q=0, zh-Hans-CN"), Some(Lang::Zh));
    }
}
