//! Text handling for the question search engine: spelling folding, tokenising, inflection
//! suffixes and a one-edit typo test.
//!
//! Everything the engine compares (questions, the guideline text, the vocabulary in
//! `prompts/search/`) goes through [`fold`] first, so the three sides always agree on spelling.
//! Folding makes the common ways of typing Norwegian on an English keyboard meet: `æ`/`ae`,
//! `ø`/`oe`/`o` and `å`/`aa`/`a` all become one letter, and doubled letters are collapsed so
//! `kommentar` and `komentar` or `slette` and `slete` are the same word.

/// Inflection and light derivation endings for Nynorsk, Bokmål and English, in folded form
/// (doubled letters collapsed). A word matches a vocabulary form when it is the form plus one of
/// these; see [`inflects`]. Sorted by length (shortest first) so the longest base wins.
pub const SUFFIXES: &[&str] = &[
    "", "a", "e", "n", "r", "s", "t", "ar", "as", "de", "ed", "en", "er", "es", "et", "ly", "na", "ne", "st", "ta",
    "te", "ane", "ast", "ene", "ens", "ers", "ets", "ing", "leg", "lig", "ande", "else", "ende", "heit", "inga",
    "ings", "lege", "lige", "ingar", "ingen", "inger", "ingane", "ingene",
];

/// Lowercases and folds spelling variants: `æ`→`e`, `ø`→`o`, `å`→`a` (and the keyboard
/// spellings `ae`, `oe`, `aa`), accents dropped, runs of the same letter collapsed to one.
pub fn fold(s: &str) -> String {
    let mut wide = String::with_capacity(s.len() + 8);
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'æ' | 'ä' => wide.push_str("ae"),
            'ø' | 'ö' | 'œ' => wide.push_str("oe"),
            'å' | 'à' | 'á' | 'â' => wide.push('a'),
            'é' | 'è' | 'ê' | 'ë' => wide.push('e'),
            'ó' | 'ò' | 'ô' => wide.push('o'),
            'ü' | 'ú' | 'ù' => wide.push('u'),
            'í' | 'ì' | 'ï' => wide.push('i'),
            // Typographic apostrophes and dashes behave like their ASCII forms.
            '\u{2019}' | '\u{2018}' => wide.push('\''),
            '\u{2013}' | '\u{2014}' => wide.push('-'),
            _ => wide.push(c),
        }
    }
    let mut out = String::with_capacity(wide.len());
    let mut prev: Option<char> = None;
    let mut chars = wide.chars().peekable();
    while let Some(c) = chars.next() {
        // `ae` and `oe` are how æ and ø are typed without them; fold them like the letters.
        let c = match (c, chars.peek()) {
            ('a', Some('e')) | ('o', Some('e')) => {
                chars.next();
                if c == 'a' {
                    'e'
                } else {
                    'o'
                }
            }
            _ => c,
        };
        if c.is_alphabetic() && prev == Some(c) {
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// Splits folded text into word tokens. Letters and digits make words; `@` is a token of its
/// own (it marks an e-mail address); a hyphen joins a one-letter prefix to the next part
/// (`e-post` → `epost`) and otherwise separates words (`FB-sida` → `fb`, `sida`).
pub fn tokenize(folded: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = folded.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            cur.push(c);
            continue;
        }
        if c == '-' && cur.chars().count() == 1 && chars.peek().is_some_and(|n| n.is_alphabetic()) {
            continue;
        }
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if c == '@' {
            out.push("@".to_string());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Folds and tokenises in one step.
pub fn words(s: &str) -> Vec<String> {
    tokenize(&fold(s))
}

/// The ways `token` can be read as base + inflection ending: `(base, ending)` pairs, longest
/// base first. Bases keep at least three letters unless the ending is empty.
pub fn splits(token: &str) -> impl Iterator<Item = (&str, &str)> {
    SUFFIXES.iter().filter_map(move |suf| {
        let base = token.strip_suffix(suf)?;
        (suf.is_empty() || base.chars().count() >= 3).then_some((base, *suf))
    })
}

/// Stems of at least this many letters also stand alone: the imperative and short forms of
/// verbs (`slett`, `fjern`, `godkjenn` for `slette`, `fjerne`, `godkjenne`).
pub const BARE_STEM_MIN_LEN: usize = 4;

/// True when `token` is `form` or an inflected form of it: `form` + ending, or for a form that
/// ends in `e`, the form without it + a non-empty ending (`side` → `sida`, `sider`, `sidene`),
/// or without any ending when the stem is long enough (`slett` for `slette`).
pub fn inflects(token: &str, form: &str) -> bool {
    if token == form {
        return true;
    }
    if let Some(rest) = token.strip_prefix(form) {
        if SUFFIXES.contains(&rest) {
            return true;
        }
    }
    if let Some(stem) = form.strip_suffix('e') {
        if stem.chars().count() >= 3 {
            if let Some(rest) = token.strip_prefix(stem) {
                return if rest.is_empty() {
                    stem.chars().count() >= BARE_STEM_MIN_LEN
                } else {
                    SUFFIXES.contains(&rest)
                };
            }
        }
    }
    false
}

/// A light stem for words the vocabulary does not know: the longest ending is removed as long as
/// four letters remain. Used for the guideline's own wording and the question's leftovers alike.
pub fn light_stem(token: &str) -> String {
    let mut best = token;
    for (base, _) in splits(token) {
        if base.chars().count() >= 4 && base.len() < best.len() {
            best = base;
        }
    }
    best.strip_suffix('e').filter(|b| b.chars().count() >= 4).unwrap_or(best).to_string()
}

/// Typos are only looked for in words at least this long (shorter words have too many
/// neighbours).
pub const TYPO_MIN_LEN: usize = 5;
/// Shorter words only count as a typo by a missing, extra or swapped letter.
const SUBSTITUTION_MIN_LEN: usize = 7;

/// True when `typed` reads as a typo of `word`: one letter missing, extra, changed or swapped with
/// its neighbour, the first letter right (people rarely mistype it, and allowing it turns
/// `prøver` into `approve`), and a changed letter only in words of seven letters or more (a
/// changed letter turns too many short words into others: `lokal`/`lojal`).
pub fn is_typo(typed: &str, word: &str) -> bool {
    let n = typed.chars().count();
    n >= TYPO_MIN_LEN
        && typed.chars().next() == word.chars().next()
        && within_one_edit(typed, word)
        && (n >= SUBSTITUTION_MIN_LEN || word.chars().count() != n || is_swap(typed, word))
}

/// True when `b` is `a` with two neighbouring letters swapped.
fn is_swap(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    diff.len() == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]
}

/// True when `a` and `b` differ by at most one insertion, deletion, substitution or swap of two
/// neighbouring letters (Damerau-Levenshtein distance ≤ 1).
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if prefix == la && prefix == lb {
        return true;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match la.cmp(&lb) {
        std::cmp::Ordering::Equal => {
            ra[1..] == rb[1..] || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        std::cmp::Ordering::Greater => ra[1..] == *rb,
        std::cmp::Ordering::Less => *ra == rb[1..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_meets_keyboard_spellings() {
        assert_eq!(fold("på"), fold("paa"));
        assert_eq!(fold("sjølv"), fold("sjoelv"));
        assert_eq!(fold("særskild"), fold("saerskild"));
        assert_eq!(fold("Kommentar"), fold("komentar"));
        assert_eq!(fold("slette"), "slete");
    }

    #[test]
    fn tokens_handle_hyphens_and_addresses() {
        assert_eq!(words("Kommune-eposten!"), ["komune", "eposten"]);
        assert_eq!(words("e-post"), ["epost"]);
        assert_eq!(words("FB-sida"), ["fb", "sida"]);
        assert_eq!(words("x@volda.kommune.no"), ["x", "@", "volda", "komune", "no"]);
    }

    #[test]
    fn inflection_matches_endings() {
        assert!(inflects("sida", "side"));
        assert!(inflects("sidene", "side"));
        assert!(inflects("komentarane", "komentar"));
        assert!(inflects("comments", "comment"));
        assert!(!inflects("sidan", "side"));
        assert!(!inflects("sid", "side"));
        assert!(inflects("slet", "slete"));
    }

    #[test]
    fn typo_rule() {
        assert!(is_typo("taushetspilkt", "taushetsplikt"));
        assert!(is_typo("komentr", "komentar"));
        assert!(is_typo("kommentra", "kommentar"));
        assert!(!is_typo("lokal", "lojal"));
        assert!(!is_typo("prove", "aprove"));
        assert!(!is_typo("sida", "side"));
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit("komentar", "komentr"));
        assert!(within_one_edit("slete", "selte"));
        assert!(within_one_edit("teieplikt", "teiplikt"));
        assert!(!within_one_edit("teieplikt", "taushetsplikt"));
    }
}
