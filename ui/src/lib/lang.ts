// Writing direction of a language code, for the panes' `dir` attributes.

const RTL = ['ar', 'he', 'fa', 'ur'];

/** 'rtl' for right-to-left languages ('ar', 'he-IL', …), else 'ltr' (also when unknown). */
export function dirOf(lang: string | null | undefined): 'rtl' | 'ltr' {
  return lang && RTL.includes(lang.split('-')[0].toLowerCase()) ? 'rtl' : 'ltr';
}
