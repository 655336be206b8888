//! Progress on stderr: a live bar on a terminal, plain lines otherwise (logs, CI, pipes).

use std::cell::RefCell;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use precis_core::progress::{Event, Stage};

pub struct Reporter {
    bar: Option<ProgressBar>,
    plain: bool,
    last_line: RefCell<String>,
}

impl Reporter {
    pub fn new(quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix:.bold} [{bar:30}] {pos}/{len} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            plain: !quiet && !terminal,
            last_line: RefCell::new(String::new()),
        }
    }

    pub fn stage(&self, stage: Stage, detail: &str) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(stage.label());
            bar.set_message(detail.to_string());
        }
        self.line(format!("[{}] {detail}", stage.label()));
    }

    fn line(&self, line: String) {
        if self.plain && *self.last_line.borrow() != line {
            eprintln!("{line}");
            *self.last_line.borrow_mut() = line;
        }
    }

    pub fn sink(&self) -> impl FnMut(Event) + '_ {
        let mut streamed = String::new();
        move |event: Event| match event {
            Event::Stage { stage, detail } => self.stage(stage, &detail),
            Event::Progress {
                stage,
                done,
                total,
                tokens,
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_prefix(stage.label());
                    bar.set_length(total);
                    bar.set_position(done);
                }
                let unit = if matches!(stage, Stage::Downloading) && total > 1000 {
                    " bytes"
                } else {
                    ""
                };
                // A model load is one unit: its Stage line already said it.
                let counted = match stage {
                    Stage::Downloading => done == total || total < 1000,
                    Stage::LoadingModel => false,
                    _ => true,
                };
                if counted {
                    let extra = if tokens > 0 {
                        format!(", {tokens} tokens")
                    } else {
                        String::new()
                    };
                    self.line(format!("[{}] {done}/{total}{unit}{extra}", stage.label()));
                }
            }
            Event::Token { text, .. } => {
                if let Some(bar) = &self.bar {
                    streamed.push_str(&text);
                    let tail: String = streamed.replace('\n', " ");
                    let tail: String = tail
                        .chars()
                        .rev()
                        .take(60)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    bar.set_message(tail);
                }
            }
            Event::ParagraphDone { .. } => streamed.clear(),
            Event::Warning {
                paragraph_id,
                message,
            } => {
                let message = match paragraph_id {
                    Some(id) => format!("{id}: {message}"),
                    None => message,
                };
                if let Some(bar) = &self.bar {
                    bar.println(format!("warning: {message}"));
                } else if self.plain {
                    eprintln!("warning: {message}");
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
