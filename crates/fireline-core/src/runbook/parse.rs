//! Reading one runbook file.

use super::{slug, Phase, Runbook, Section, SectionKind, Step};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// A file that is not a runbook, with where and what would fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message} (hint: {hint})")]
pub struct ParseError {
    /// Line, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// What would be right.
    pub hint: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    alerts: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    severity: Option<String>,
}

static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a literal pattern, checked by every test
    Regex::new(r"^(#{1,6})\s+(.*?)\s*#*\s*$").unwrap()
});
static TASK: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"^\s*[-*+]\s+\[([ xX])\]\s+(.*\S)\s*$").unwrap()
});
static WINDOW: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"^(.*?)\s*\((\d+)\s*[-–]\s*(\d+)\s*(m|min|mins|minutes|h|hour|hours|d|day|days)\)$")
        .unwrap()
});
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)").unwrap()
});
static NUMBERING: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"^\d+[.)]\s+").unwrap()
});

/// Fence languages whose contents are commands to run; other fences (sample output,
/// message templates) are kept as prose.
const SHELL: &[&str] = &["bash", "sh", "shell", "console", "zsh"];

/// A heading's time window, if it has one: `Mitigation (15-30 min)` → (`Mitigation`, 15, 30).
pub(crate) fn window(heading: &str) -> Option<(String, u32, u32)> {
    let caps = WINDOW.captures(heading)?;
    let scale = match &caps[4] {
        "h" | "hour" | "hours" => 60,
        "d" | "day" | "days" => 24 * 60,
        _ => 1,
    };
    let from: u32 = caps[2].parse().ok()?;
    let to: u32 = caps[3].parse().ok()?;
    Some((
        caps[1].trim_end_matches([':', ' ']).to_string(),
        from.checked_mul(scale)?,
        to.checked_mul(scale)?,
    ))
}

/// A heading line: (level, text).
pub(crate) fn heading(line: &str) -> Option<(usize, String)> {
    let caps = HEADING.captures(line)?;
    Some((caps[1].len(), caps[2].to_string()))
}

/// A fence's opening line: (marker, language).
pub(crate) fn fence_open(line: &str) -> Option<(String, String)> {
    let t = line.trim_start();
    let ch = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = t.chars().take_while(|c| *c == ch).count();
    if n < 3 {
        return None;
    }
    let lang = t[n..]
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase();
    Some((t[..n].to_string(), lang))
}

fn fence_closes(line: &str, marker: &str) -> bool {
    let t = line.trim();
    t.starts_with(marker) && t.chars().all(|c| marker.starts_with(c))
}

/// A fence being read: marker, language, numbered lines.
type OpenFence<'a> = (String, String, Vec<(usize, &'a str)>);

/// Reads a runbook: front matter, title, sections, steps, phases and relative links.
pub fn parse(text: &str) -> Result<Runbook, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let (front, end, id_line) = front_matter(&lines)?;
    let mut book = Runbook {
        id: front.id,
        title: front.title.unwrap_or_default(),
        alerts: front.alerts,
        labels: front.labels,
        services: front.services,
        severity: front.severity,
        sections: Vec::new(),
        steps: Vec::new(),
        phases: Vec::new(),
        links: Vec::new(),
        id_line,
    };
    read_body(&mut book, &lines, end);
    if book.title.is_empty() {
        return Err(ParseError {
            line: 1,
            message: "no title".into(),
            hint: "add `title: …` to the front matter or a `# Title` heading".into(),
        });
    }
    Ok(book)
}

/// The YAML front matter between the first two `---` lines, with the index of the
/// closing one and the line of `id:` (for later problems about the id).
fn front_matter(lines: &[&str]) -> Result<(FrontMatter, usize, usize), ParseError> {
    if lines.first().map(|l| l.trim()) != Some("---") {
        return Err(ParseError {
            line: 1,
            message: "no front matter".into(),
            hint: "start the file with `---`, then `id: …` and `title: …`, then `---`".into(),
        });
    }
    let end = lines
        .iter()
        .skip(1)
        .position(|l| l.trim() == "---")
        .map(|i| i + 1)
        .ok_or_else(|| ParseError {
            line: 1,
            message: "front matter is not closed".into(),
            hint: "end the front matter with a `---` line".into(),
        })?;
    let yaml = lines[1..end].join("\n");
    let front: FrontMatter = serde_saphyr::from_str(&yaml).map_err(|e| ParseError {
        line: 2,
        message: format!("front matter: {e}"),
        hint: "known keys are id, title, alerts, labels, services, severity".into(),
    })?;
    let id_line = lines[1..end]
        .iter()
        .position(|l| l.trim_start().starts_with("id:"))
        .map_or(2, |i| i + 2);
    if front.id.is_empty() || slug(&front.id, 64) != front.id {
        return Err(ParseError {
            line: id_line,
            message: format!("id `{}` is not a slug", front.id),
            hint: format!(
                "use lower-case words joined by `-`, such as `{}`",
                slug(&front.id, 64)
            ),
        });
    }
    Ok((front, end, id_line))
}

/// The Markdown after the front matter (which ends at line index `end`): headings,
/// task-list steps, commands in shell fences and relative links, into `book`.
fn read_body(book: &mut Runbook, lines: &[&str], end: usize) {
    let mut section = String::from("Checklist");
    let mut phase: Option<(usize, String)> = None;
    let mut ids = BTreeSet::new();
    let mut fence: Option<OpenFence> = None;
    for (i, line) in lines.iter().enumerate().skip(end + 1) {
        let no = i + 1;
        if let Some((marker, lang, body)) = &mut fence {
            if fence_closes(line, marker) {
                if SHELL.contains(&lang.as_str()) {
                    for (at, text, command) in commands(body, lang == "console") {
                        push(book, &mut ids, &section, &phase, at, text, command);
                    }
                }
                fence = None;
            } else {
                body.push((no, line));
            }
            continue;
        }
        if let Some((marker, lang)) = fence_open(line) {
            fence = Some((marker, lang, Vec::new()));
            continue;
        }
        if let Some((level, text)) = heading(line) {
            read_heading(book, &mut section, &mut phase, level, text, no);
            continue;
        }
        if let Some(caps) = TASK.captures(line) {
            push(
                book,
                &mut ids,
                &section,
                &phase,
                no,
                caps[2].to_string(),
                None,
            );
        }
        for caps in LINK.captures_iter(line) {
            let target = &caps[1];
            if !(target.contains("://")
                || target.starts_with('#')
                || target.starts_with('/')
                || target.starts_with("mailto:"))
            {
                book.links.push((no, target.to_string()));
            }
        }
    }
}

/// A heading on line `no`: the title if none is set yet, a section at level 2, and a
/// phase when it names a time window; a phase ends at the next heading of its level or
/// above.
fn read_heading(
    book: &mut Runbook,
    section: &mut String,
    phase: &mut Option<(usize, String)>,
    level: usize,
    text: String,
    no: usize,
) {
    if phase.as_ref().is_some_and(|(l, _)| level <= *l) {
        *phase = None;
    }
    if level == 1 && book.title.is_empty() {
        book.title = text.clone();
    }
    if level == 2 {
        *section = text.clone();
        book.sections.push(Section {
            kind: SectionKind::recognise(&text),
            heading: text.clone(),
            line: no,
        });
    }
    if level >= 2 {
        if let Some((name, from, to)) = window(&text) {
            book.phases.push(Phase {
                name: name.clone(),
                from_minutes: from,
                to_minutes: to,
            });
            *phase = Some((level, name));
        }
    }
}

fn push(
    book: &mut Runbook,
    ids: &mut BTreeSet<String>,
    section: &str,
    phase: &Option<(usize, String)>,
    line: usize,
    text: String,
    command: Option<String>,
) {
    let base = {
        let s = slug(&text, 40);
        format!(
            "{}.{}",
            slug(section, 32),
            if s.is_empty() { "step".into() } else { s }
        )
    };
    // Same text twice in a section (a restart under two causes) gets a counter, so ids
    // stay unique and stay put as long as the earlier ones do.
    let mut id = base.clone();
    let mut n = 2;
    while !ids.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    book.steps.push(Step {
        id,
        section: section.to_string(),
        text,
        command,
        phase: phase.as_ref().map(|(_, name)| name.clone()),
        line,
    });
}

/// Splits a shell fence into steps: blank lines separate groups; a group's leading
/// `# comment` is its text (numbering dropped), the rest its command.
fn commands(body: &[(usize, &str)], console: bool) -> Vec<(usize, String, Option<String>)> {
    let mut out = Vec::new();
    for group in body.split(|(_, l)| l.trim().is_empty()) {
        let Some(&(at, _)) = group.first() else {
            continue;
        };
        let mut text = Vec::new();
        let mut rest = group;
        while let Some(((_, l), tail)) = rest.split_first() {
            match l.trim().strip_prefix('#') {
                Some(c) if !c.starts_with('!') => {
                    text.push(NUMBERING.replace(c.trim(), "").to_string());
                    rest = tail;
                }
                _ => break,
            }
        }
        let command: Vec<&str> = rest
            .iter()
            .map(|(_, l)| {
                if console {
                    l.trim_start().strip_prefix("$ ").unwrap_or(l)
                } else {
                    l
                }
            })
            .collect();
        let command = (!command.is_empty()).then(|| command.join("\n"));
        let text = match (text.is_empty(), &command) {
            (false, _) => text.join(" "),
            (true, Some(c)) => format!("Run `{}`", c.lines().next().unwrap_or("").trim()),
            (true, None) => continue,
        };
        out.push((at, text, command));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_in_headings() {
        assert_eq!(
            window("Phase 1: Detection & Acknowledgment (0-5 min)"),
            Some(("Phase 1: Detection & Acknowledgment".into(), 0, 5))
        );
        assert_eq!(
            window("Phase 5: Postmortem (24-48 hours)"),
            Some(("Phase 5: Postmortem".into(), 1440, 2880))
        );
        assert_eq!(window("Symptoms"), None);
    }
}
