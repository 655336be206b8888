// A polite live region's text (components/Announcer.svelte), for feedback that has no other
// spoken form, such as "Copied".

export const announcement = $state({ message: '' });

const CLEAR_AFTER_MS = 4000;
let timer: ReturnType<typeof setTimeout> | undefined;

export function announce(message: string): void {
  clearTimeout(timer);
  // Emptied first, so a repeated message ("Copied" twice) is spoken again.
  announcement.message = '';
  timer = setTimeout(() => {
    announcement.message = message;
    timer = setTimeout(() => (announcement.message = ''), CLEAR_AFTER_MS);
  }, 50);
}
