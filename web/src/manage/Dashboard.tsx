import { useState } from 'preact/hooks';
import { get } from '../api';
import { Link } from '../router';
import type { Stats } from '../types';
import { ErrorNote, Loading, Money, PageTitle, useLoad } from '../ui';
import { BarChart, LineChart } from './charts';

const LOW_STOCK_SHOWN = 10;

/** Chart heights only: the figures shown as text stay the exact decimal strings from the API. */
const money = (v: number) => `$${v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0)}`;

export function DashboardPage() {
  const [days, setDays] = useState('30');
  const [allLowStock, setAllLowStock] = useState(false);
  const stats = useLoad(`stats-${days}`, () => get<Stats>(`/api/admin/stats/?days=${days}&top=8`));
  const data = stats.data;
  return (
    <section>
      <PageTitle title="Dashboard" />
      <div class="inline-form">
        <label for="days">Period</label>
        <select id="days" value={days} onChange={(event) => setDays(event.currentTarget.value)}>
          <option value="7">Last 7 days</option>
          <option value="30">Last 30 days</option>
          <option value="90">Last 90 days</option>
          <option value="365">Last year</option>
        </select>
      </div>
      <ErrorNote error={stats.error} />
      {!data && stats.loading && <Loading label="Loading the figures" />}
      {data && (
        <>
          <div class="kpis">
            <p>
              <span class="kpi-label">Orders</span> <span class="kpi">{data.totals.orders}</span>
            </p>
            <p>
              <span class="kpi-label">Revenue</span>{' '}
              <span class="kpi">
                <Money amount={data.totals.revenue} />
              </span>
            </p>
            <p>
              <span class="kpi-label">Low stock</span>{' '}
              <span class="kpi">{data.low_stock.length >= 50 ? '50+' : data.low_stock.length}</span>
            </p>
          </div>
          <div class="panels">
            <figure class="panel">
              <figcaption>Sales per day (paid orders)</figcaption>
              <LineChart
                title={`Revenue per day over the last ${data.days} days`}
                points={data.sales_by_day.map((d) => ({ label: d.day.slice(5), value: Number(d.revenue) }))}
                format={money}
              />
            </figure>
            <figure class="panel">
              <figcaption>Top products by revenue</figcaption>
              {data.top_products.length === 0 ? (
                <p>No sales in this period.</p>
              ) : (
                <BarChart
                  title="Top products by revenue"
                  points={data.top_products.map((p) => ({ label: p.name, value: Number(p.revenue) }))}
                  format={money}
                />
              )}
            </figure>
          </div>
          <section class="panel" aria-labelledby="low-stock">
            <h2 id="low-stock">Low stock</h2>
            {data.low_stock.length === 0 ? (
              <p>Every product has more than 5 in stock.</p>
            ) : (
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col">In stock</th>
                  </tr>
                </thead>
                <tbody>
                  {(allLowStock ? data.low_stock : data.low_stock.slice(0, LOW_STOCK_SHOWN)).map((p) => (
                    <tr key={p.id}>
                      <td>
                        <Link href={`/manage/products/${p.id}`}>{p.name}</Link>
                      </td>
                      <td>{p.stock_quantity}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {data.low_stock.length > LOW_STOCK_SHOWN && (
              <button
                type="button"
                class="secondary"
                aria-expanded={allLowStock}
                onClick={() => setAllLowStock(!allLowStock)}
              >
                {allLowStock ? 'Show fewer' : `Show all ${data.low_stock.length}`}
              </button>
            )}
          </section>
        </>
      )}
    </section>
  );
}
