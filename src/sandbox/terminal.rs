//! Reading the typed lines. On a terminal a line editor (rustyline) reads in raw mode: in the
//! kernel's canonical mode a line is cut at 4095 bytes (about 3830 characters of Nynorsk, and
//! possibly in the middle of a letter), long before Discord's own limits. Piped input is read
//! line by line as bytes, so nothing there cuts it either.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Stdin, Stdout};

/// Where the lines come from.
pub(super) enum Lines {
    /// A terminal: a thread runs the line editor, asked for one line at a time.
    Terminal {
        ask: std::sync::mpsc::Sender<String>,
        lines: tokio::sync::mpsc::Receiver<std::io::Result<Option<String>>>,
    },
    /// A pipe or a file.
    Piped(BufReader<Stdin>),
}

impl Lines {
    /// The line editor when stdin and stdout are a terminal it can drive, else plain lines.
    pub fn open() -> Lines {
        use std::io::IsTerminal;
        if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
            return Lines::Piped(BufReader::new(tokio::io::stdin()));
        }
        let (ask, prompts) = std::sync::mpsc::channel::<String>();
        let (send, lines) = tokio::sync::mpsc::channel(1);
        std::thread::spawn(move || {
            let mut editor = match rustyline::DefaultEditor::new() {
                Ok(e) => e,
                Err(e) => {
                    let _ = send.blocking_send(Err(std::io::Error::other(e)));
                    return;
                }
            };
            for prompt in prompts {
                let line = match editor.readline(&prompt) {
                    Ok(line) => {
                        let _ = editor.add_history_entry(line.as_str());
                        Ok(Some(line))
                    }
                    // Ctrl-D and Ctrl-C end the sandbox, as they would without the editor.
                    Err(rustyline::error::ReadlineError::Eof | rustyline::error::ReadlineError::Interrupted) => {
                        Ok(None)
                    }
                    Err(e) => Err(std::io::Error::other(e)),
                };
                if send.blocking_send(line).is_err() {
                    break;
                }
            }
        });
        Lines::Terminal { ask, lines }
    }

    /// Shows `prompt` and reads the next line; `None` at the end of the input.
    pub async fn next(&mut self, prompt: &str, stdout: &mut Stdout) -> std::io::Result<Option<String>> {
        match self {
            Lines::Piped(input) => {
                stdout.write_all(prompt.as_bytes()).await?;
                stdout.flush().await?;
                let mut bytes = Vec::new();
                if input.read_until(b'\n', &mut bytes).await? == 0 {
                    return Ok(None);
                }
                let line = String::from_utf8_lossy(&bytes);
                Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
            }
            Lines::Terminal { ask, lines } => {
                stdout.flush().await?;
                if ask.send(prompt.to_string()).is_err() {
                    return Ok(None);
                }
                lines.recv().await.unwrap_or(Ok(None))
            }
        }
    }
}
