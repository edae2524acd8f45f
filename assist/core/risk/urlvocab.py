"""Vocabularies of the link checker: what phishing and malware links are made of.

Built in, so a shop's knowledge folder without ``lists/`` is protected too. The lists name
*families* (shorteners, free hosting and site builders, IPFS gateways, phished brands), taken
from the public reporting on phishing infrastructure (APWG, Interisle, Spamhaus), not rows of
any feed. Admins add hosts with ``lists/block_hosts.txt`` (``assist risk lists update``).
"""

from __future__ import annotations

import re

SHORTENERS = frozenset({
    "t.cn", "url.cn", "dwz.cn", "suo.im", "mrw.so", "w.url.cn", "sohu.gg", "u.nu", "tb.gy",
    "bit.ly", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "cutt.ly", "rebrand.ly", "t.ly",
    "s.id", "v.gd", "shorturl.at", "rb.gy", "t.co", "dwz.date", "kurl.ru", "clck.ru",
    "bitly.com", "buff.ly", "tiny.cc", "shorte.st", "adf.ly", "bl.ink", "lnkd.in", "qr.ae",
    "soo.gd", "x.co", "t2m.io", "tny.im", "urlz.fr", "short.gy", "bit.do", "linktr.ee",
    "teach.link", "snip.ly", "han.gl", "me2.do", "0rz.tw", "reurl.cc", "lihi.cc", "lihi1.cc",
    "ppt.cc", "qrco.de", "qrs.ly", "surl.li", "shorturl.asia", "l.ead.me", "urlshortener.at",
    "gg.gg", "tinu.be", "zpr.io", "n9.cl",
})
# TLDs that dominate phishing statistics (Spamhaus / Interisle reports): cheap or free.
CHEAP_TLDS = frozenset({
    "top", "xyz", "icu", "vip", "club", "buzz", "cf", "tk", "ml", "ga", "gq", "win", "online",
    "site", "cc", "rest", "bar", "cyou", "sbs", "cfd", "bond", "work", "click", "link", "loan",
    "monster", "fun", "cam", "bid", "pw", "kim", "wang", "ren", "info", "help", "live", "ru",
    "su", "ws", "men", "party", "date", "review", "country", "stream", "gdn", "racing", "zip",
    "mov", "shop", "store", "lol", "quest", "beauty", "hair", "skin", "makeup", "autos", "boats",
    "yachts", "homes", "motorcycles", "mom", "pics", "lat", "ink", "today", "support", "digital",
})
# Free hosting, site builders, form and file services, tunnels and dynamic DNS: anyone can put
# a login page on a subdomain (or a path) of these in a minute. The provider's own home page
# (the bare registered domain) is not flagged.
FREE_HOSTS = frozenset({
    "000webhostapp.com", "webflow.io", "weebly.com", "weeblysite.com", "wixsite.com",
    "wix.com", "square.site", "godaddysites.com", "yolasite.com", "jimdosite.com",
    "jimdofree.com", "strikingly.com", "mystrikingly.com", "site123.me", "webnode.page",
    "webnode.com", "tilda.ws", "carrd.co", "framer.app", "framer.website", "notion.site",
    "gitbook.io", "github.io", "gitlab.io", "pages.dev", "workers.dev", "netlify.app",
    "netlify.com", "vercel.app", "now.sh", "herokuapp.com", "glitch.me", "repl.co", "replit.app",
    "replit.dev", "onrender.com", "fly.dev", "railway.app", "firebaseapp.com", "web.app",
    "appspot.com", "azurewebsites.net", "azureedge.net", "cloudfront.net", "amplifyapp.com",
    "blogspot.com", "wordpress.com", "medium.com", "tumblr.com", "typeform.com", "jotform.com",
    "formstack.com", "wufoo.com", "surveymonkey.com", "paperform.co", "ngrok.io", "ngrok.app",
    "ngrok-free.app", "trycloudflare.com", "loca.lt", "serveo.net", "duckdns.org", "no-ip.org",
    "no-ip.com", "ddns.net", "hopto.org", "zapto.org", "sytes.net", "myftp.org", "servehttp.com",
    "dynu.net", "freedns.afraid.org", "html-5.me", "epizy.com", "rf.gd", "infinityfreeapp.com",
    "byethost.com", "biz.id", "my.id", "web.id", "ukit.me", "mybluehost.me", "inmotionhosting.com",
    "r2.dev", "storage.googleapis.com", "firebasestorage.googleapis.com", "s3.amazonaws.com",
    "blob.core.windows.net", "dropboxusercontent.com", "ipfs.io", "dweb.link",
    "cloudflare-ipfs.com", "w3s.link", "nftstorage.link", "4everland.io", "fleek.co",
    "pinata.cloud", "mypinata.cloud", "fc2.com", "bravesites.com", "webcindario.com",
    "sites.google.com", "forms.gle", "backblazeb2.com", "wcomhost.com", "lovable.app",
    "bolt.host", "codesandbox.io", "csb.app", "stackblitz.io", "surge.sh", "pythonanywhere.com",
})
# Paths on big shared services that host anyone's page or form.
FREE_HOST_PATHS = re.compile(
    r"^(?:docs\.google\.com/(?:forms|document|presentation|spreadsheets|drawings)"
    r"|forms\.office\.com/|forms\.microsoft\.com/|sites\.google\.com/|drive\.google\.com/file"
    r"|(?:[a-z0-9-]+\.)?sharepoint\.com/:[a-z]:/|onedrive\.live\.com/|1drv\.ms/"
    r"|(?:www\.)?dropbox\.com/s/)", re.ASCII)
IPFS = re.compile(r"(?:^|\.)ipfs\.|ipfs|(?:^|/)ipns?/", re.ASCII)

# Brands phishing pages impersonate, outside the shop's own platforms (those come from the
# allow list). A brand is "at home" on any registered domain named exactly after it
# (paypal.com, amazon.co.jp); anywhere else in a host, or as a path segment of a foreign site,
# it is an impersonation.
PHISHED_BRANDS = frozenset({
    "paypal", "apple", "appleid", "icloud", "itunes", "microsoft", "office365", "microsoft365",
    "outlook", "hotmail", "onedrive", "sharepoint", "netflix", "amazon", "ebay", "chase",
    "wellsfargo", "bankofamerica", "citibank", "hsbc", "barclays", "santander", "natwest",
    "lloyds", "halifax", "usaa", "americanexpress", "amex", "capitalone", "dhl", "fedex", "usps",
    "docusign", "dropbox", "adobe", "linkedin", "facebook", "instagram", "whatsapp", "telegram",
    "roblox", "steamcommunity", "coinbase", "binance", "metamask", "blockchain", "yahoo", "gmail",
    "google", "wechat", "weixin", "alipay", "aliexpress", "bradesco", "itau", "caixa", "nubank",
    "mercadolibre", "mercadopago", "allegro", "rakuten", "desjardins", "interac", "webmail",
    "zimbra", "roundcube", "okta", "tiktok", "discord", "twitter", "spotify", "visa",
    "mastercard", "unionpay", "icbc", "ccb", "abchina", "boc", "cmbchina", "bankcomm", "95588",
    "95533", "95599", "95555", "shein", "temu", "lazada", "shopee", "meituan", "pinduoduo",
    "douyin", "kuaishou",
})
# Words that mean "enter your password / card / code here".
CREDENTIAL_PATH = re.compile(
    r"log-?in|sign-?in|log-?on|passport|verif|account|passw|auth|secur|wallet|cashier|unlock|"
    r"unfreeze|reset|appeal|refund|confirm|webmail|(?<![a-z])owa(?![a-z])|billing|banking|"
    r"recover|suspend|locked|validat|update-?info|(?<![a-z])2fa|(?<![a-z])otp(?![a-z])|"
    r"customer[-_]?cent|myaccount|online-?bank|restore|claim|reward|prize|lipei|tuikuan|"
    r"dongjie|jiedong|yanzheng|denglu|shouquan|tuihuan", re.ASCII)
# The same words as a whole label or hyphen token of a host: secure-login.example.top.
CREDENTIAL_HOST = re.compile(
    r"(?<![a-z0-9])(?:log-?in|sign-?in|logon|verify|verification|account|accounts|secure|"
    r"security|auth|wallet|unlock|refund|appeal|billing|banking|recover|webmail|update|"
    r"support|service|customer|helpdesk|kefu|tuikuan|lipei|yanzheng|denglu)(?![a-z0-9])",
    re.ASCII)
# A compromised CMS serving a kit: the kit lives under the CMS folders.
CMS_PATH = re.compile(r"/(?:wp-(?:content|includes|admin|images?|css)|wp/|cgi-bin/|\.well-known/"
                      r"|administrator/|components/com_|sites/default/files/)", re.ASCII)
_MEDIA = r"(?:jpe?g|png|gif|webp|svg|bmp|mp4|mov|webm|pdf|css|woff2?|ttf|ico|avif|heic)"
CMS_MEDIA = re.compile(rf"\.{_MEDIA}$", re.ASCII)
EMAIL_IN_URL = re.compile(r"[a-z0-9._%+-]+(?:@|%40)[a-z0-9-]+\.[a-z]{2,}", re.ASCII)
