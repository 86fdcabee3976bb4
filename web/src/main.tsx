import { render } from 'preact';
import { restoreSession } from './api';
import { Storefront } from './shop/Storefront';
import './styles.css';

const root = document.getElementById('app') as HTMLElement;

/** The storefront ships in the first script; the manager is loaded only by those who open /manage. */
async function start() {
  await restoreSession();
  if (window.location.pathname.startsWith('/manage')) {
    const { Manager } = await import('./manage/Manager');
    render(<Manager />, root);
  } else {
    render(<Storefront />, root);
  }
}

void start();
