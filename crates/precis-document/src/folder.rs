//! The articles in a folder, for batch runs and a folder dropped on the window: every file with
//! an article extension ([`crate::ARTICLE_EXTENSIONS`]), recursively, in a stable order.
//! Symbolic links are followed, but a link back into a folder being walked (a loop) is
//! reported and skipped, as is anything unreadable: one bad entry never hides the rest.

use std::path::{Path, PathBuf};

/// Folders deeper than this below the one given are not entered (and that is reported).
pub const MAX_DEPTH: usize = 32;
/// At most this many articles are listed from one folder (and the rest reported): a batch of
/// a whole disk is a mistake, not a workload.
pub const MAX_ARTICLES: usize = 100_000;

/// What walking a folder found.
#[derive(Debug, Default)]
pub struct FolderListing {
    /// Article files, sorted by path.
    pub articles: Vec<PathBuf>,
    /// Entries that could not be listed, each with the reason (a loop, no permission…).
    pub problems: Vec<(PathBuf, String)>,
    /// Files skipped because their extension is not an article format.
    pub other_files: usize,
}

/// Whether `path`'s extension is one Précis reads as an article.
pub fn is_article_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .is_some_and(|e| crate::ARTICLE_EXTENSIONS.iter().any(|(x, _)| *x == e))
}

/// Lists the articles under `dir`. An error only when `dir` itself cannot be read.
pub fn articles_in(dir: &Path) -> std::io::Result<FolderListing> {
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a folder", dir.display()),
        ));
    }
    std::fs::read_dir(dir)?;
    let mut listing = FolderListing::default();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .max_depth(MAX_DEPTH + 1)
        .sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| dir.to_path_buf());
                let reason = if e.loop_ancestor().is_some() {
                    "a link back into a folder it is inside (a loop); skipped".to_string()
                } else {
                    match e.io_error() {
                        Some(io) => format!("cannot be read: {io}"),
                        None => e.to_string(),
                    }
                };
                listing.problems.push((path, reason));
                continue;
            }
        };
        let file_type = entry.file_type();
        if file_type.is_dir() {
            if entry.depth() > MAX_DEPTH {
                listing.problems.push((
                    entry.path().to_path_buf(),
                    format!("more than {MAX_DEPTH} folders deep; not entered"),
                ));
            }
            continue;
        }
        if !file_type.is_file() || !is_article_path(entry.path()) {
            listing.other_files += usize::from(file_type.is_file());
            continue;
        }
        if listing.articles.len() == MAX_ARTICLES {
            listing.problems.push((
                dir.to_path_buf(),
                format!(
                    "more than {MAX_ARTICLES} articles; only the first {MAX_ARTICLES} are taken"
                ),
            ));
            break;
        }
        listing.articles.push(entry.into_path());
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_articles_recursively_and_reports_loops_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/deeper")).unwrap();
        std::fs::write(root.join("a.TXT"), "x").unwrap();
        std::fs::write(root.join("b/c.html"), "x").unwrap();
        std::fs::write(root.join("b/deeper/d.pdf"), "x").unwrap();
        std::fs::write(root.join("b/notes.xyz"), "x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, root.join("b/loop")).unwrap();
        let listing = articles_in(root).unwrap();
        let names: Vec<String> = listing
            .articles
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.TXT", "b/c.html", "b/deeper/d.pdf"]);
        assert_eq!(listing.other_files, 1);
        #[cfg(unix)]
        {
            assert_eq!(listing.problems.len(), 1, "{:?}", listing.problems);
            assert!(listing.problems[0].1.contains("loop"));
        }
        let e = articles_in(&root.join("a.TXT")).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
        assert!(articles_in(&root.join("missing")).is_err());
    }
}
