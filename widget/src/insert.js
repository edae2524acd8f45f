// Putting a reply into a host's reply box, and the clipboard fallback.

/**
 * Insert `text` into a textarea or text input at the caret (replacing the selection). If the box
 * still holds exactly the previous insertion, replace it instead, so trying another suggestion
 * does not stack replies. Fires `input` so frameworks notice. Returns false for other elements.
 */
export function insertInto(el, text, previous = null) {
  const isTextBox = el instanceof HTMLTextAreaElement
    || (el instanceof HTMLInputElement && /^(text|search|)$/.test(el.type));
  if (!isTextBox || el.disabled || el.readOnly) return false;
  if (!el.value.trim() || (previous !== null && el.value === previous)) {
    el.value = text;
    el.setSelectionRange(text.length, text.length);
  } else {
    el.setRangeText(text, el.selectionStart ?? el.value.length, el.selectionEnd ?? el.value.length, 'end');
  }
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.focus();
  return true;
}

/** Copy to the clipboard; the async API needs a secure context, so fall back to execCommand. */
export async function copyText(text, scratchParent) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // permission denied or not focused: try the legacy way below
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.cssText = 'position:fixed;top:0;left:-9999px;opacity:0';
  scratchParent.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
