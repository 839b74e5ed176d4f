"""Hand-made pages for the extraction tests (imported by them), built the way SITES.md describes the sites.

Each builder returns a whole page with its chrome (today line, menus, feedback form, "Các tin khác",
sidebar, footer with counters), so a test of the article also tests that the chrome stays out.
"""

from __future__ import annotations

TITLE = "Ban Tuyên giáo Thành ủy Long Xuyên: Triển khai toàn diện, hiệu quả các lĩnh vực tuyên giáo"
LEAD = ("Ngày 15/7, đoàn công tác Ban Tuyên giáo Tỉnh ủy An Giang làm việc với Ban Tuyên giáo Thành ủy Long Xuyên "
        "về kết quả công tác 6 tháng đầu năm.")
PARAGRAPHS = [
    "Báo cáo với đoàn công tác, Phó Trưởng Ban Tuyên giáo Thành ủy Long Xuyên Bùi Trường Giang cho biết, "
    "trong 6 tháng đầu năm 2022, Ban Tuyên giáo Thành ủy đã bám sát sự lãnh đạo, chỉ đạo của Thành ủy.",
    "Toàn Đảng bộ thành phố đã tổ chức 148 cuộc sinh hoạt chính trị về xây dựng, chỉnh đốn Đảng và hệ thống "
    "chính trị, với 8.199/8.257 đảng viên tham dự, đạt hơn 99%.",
    "Phó Trưởng Ban Tuyên giáo Tỉnh ủy Thái Thúy Xuân đề nghị Ban Thường vụ Thành ủy Long Xuyên tiếp tục quan "
    "tâm chỉ đạo các nhiệm vụ trọng tâm, nhất là tuyên truyền kỷ niệm 190 năm thành lập tỉnh An Giang.",
]
HEADING = "Nhiều mô hình hay, sáng tạo, hiệu quả"
ITEMS = ["Mô hình 2 an (an ninh trật tự và an sinh xã hội);", "Bếp ăn tình thương, gian hàng 0 đồng."]
CAPTIONS = ["Các đại biểu tham dự Hội nghị.", "Đồng chí Thái Thúy Xuân phát biểu tại buổi làm việc."]
TODAY = "Thứ Ba, 23/7/2024"
DATE_LINE = "Thứ Bảy, 16/7/2022 8:21'(GMT+7)"
OTHER_NEWS = [
    "Đổi mới công tác tuyên truyền ở Lai Châu: Ngắn gọn, dễ hiểu, dễ thực hiện",
    "Xây dựng Đảng và hệ thống chính trị trong sạch, vững mạnh ở thành phố Phổ Yên",
]
LATEST = "Công tác tuyên giáo phải khơi dậy khát vọng cống hiến xây dựng quê hương Bình Phước giàu đẹp"
CHROME = ["Phản hồi", "Các tin khác", "Thư viện ảnh", "Liên kết website", "Mới nhất", TODAY, *OTHER_NEWS,
          LATEST, "Lượt truy cập: 45.123.456", "Chia sẻ", "In bài viết", "Tuyên giáo các cấp"]


def header(today: str = TODAY) -> str:
    return (f'<header><div class="top-bar"><span class="today">{today}</span><form><input name="q"></form></div>'
            '<nav class="navbar"><ul><li><a href="/">Trang chủ</a></li><li><a href="/thoi-su-chinh-tri">'
            "Thời sự chính trị</a></li><li><a href=\"/tuyen-giao-cac-cap\">Tuyên giáo các cấp</a></li>"
            "</ul></nav></header>")


def sidebar_and_footer() -> str:
    return (f'<aside class="col-lg-4"><div class="box"><h3>Thư viện ảnh</h3><div class="carousel-item">'
            f'<img src="/album/1.jpg" alt="Lễ chào cờ"><p>Lễ chào cờ đầu tháng</p></div></div>'
            f'<div class="box"><h3>Liên kết website</h3><select><option>Báo Nhân Dân</option></select></div>'
            f'<div class="box"><h3>Mới nhất</h3><ul><li><a href="/binh-phuoc-1">{LATEST}</a></li></ul></div></aside>'
            '</div></main><footer><p>Chịu trách nhiệm chính: Trưởng Ban biên tập</p>'
            "<p>Lượt truy cập: 45.123.456</p></footer></body></html>")


def tuyengiao_page(*, date_line: str | None = DATE_LINE, byline: str = "Trường Giang", comment: str = "",
                   charset: str = "utf-8", description: str = LEAD) -> str:
    """An article page of the tuyengiao.vn 2021–2024 template."""
    date = f'<div class="ml-lg-auto text-muted small">{date_line}</div>' if date_line else ""
    body = "\n".join([
        f"<!-- cap nhat 16/07/2022 08:21:33 {comment} -->",
        f'<table class="picture" align="center"><tbody><tr><td class="pic"><img alt="{CAPTIONS[0]}" '
        f'src="/Uploads/2022/7/16/11/hoi-nghi.jpg"></td></tr><tr><td class="caption"><p>{CAPTIONS[0]}</p></td></tr>'
        '</tbody></table>',
        f'<p style="text-align: justify;"><strong>{HEADING}</strong></p>',
        f"<p>{PARAGRAPHS[0]}</p>",
        '<script type="text/javascript">var _articleId = 139001;</script>',
        f"<p>{PARAGRAPHS[1]}&nbsp;</p>",
        "<ul>" + "".join(f"<li>{i}</li>" for i in ITEMS) + "</ul>",
        f'<figure class="image"><img alt="{CAPTIONS[1]}" src="/Uploads/2022/7/16/11/phat-bieu.jpg">'
        f"<figcaption>{CAPTIONS[1]}</figcaption></figure>",
        f"<p>{PARAGRAPHS[2]}</p>",
        f'<p style="text-align: right;"><strong>{byline}</strong></p><p>&nbsp;</p>',
    ])
    others = "".join(f'<li><a href="/x-{n}">{t}</a> <span>(2{n}/12/2022)</span></li>' for n, t in enumerate(OTHER_NEWS))
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="{charset}"><title>{TITLE} - Tuyên giáo</title>'
            f'<meta property="og:title" content="{TITLE[:60]}..."><meta name="description" content="{description}">'
            '<link rel="canonical" href="https://tuyengiao.vn/ban-tuyen-giao-long-xuyen-139001"></head><body>'
            + header() + '<main class="container"><div class="d-flex"><div class="flex-fill">'
            '<div class="d-flex"><nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item">'
            f'<a href="/tuyen-giao-cac-cap">Tuyên giáo các cấp</a></li></ol></nav>{date}</div>'
            f'<article><h1 class="story-headline">{TITLE}</h1><div class="story-teaser">{LEAD}</div>'
            f'<div class="story-body">{body}</div></article>'
            '<div class="story-tools"><a href="https://facebook.com/sharer">Chia sẻ</a> '
            '<a href="javascript:print()">In bài viết</a></div>'
            '<section class="feedback"><h3>Phản hồi</h3><form><input name="FullName"><textarea></textarea>'
            '<button>Gửi phản hồi</button></form></section>'
            f'<section class="other-news"><h3>Các tin khác</h3><ul>{others}</ul></section></div>'
            + sidebar_and_footer())


def listing_page(items: int = 5) -> str:
    """A tuyengiao.vn section page: headline, date and teaser per item, pagination."""
    entries = "".join(
        f'<div class="clearfix"><a href="/bai-{n}-15{n}"><img src="/thumb-{n}.jpg" alt=""></a>'
        f'<a class="title" href="/bai-{n}-15{n}">{OTHER_NEWS[n % 2]} (phần {n})</a><span>1{n}/7/2022</span>'
        f'<p class="sapo">{PARAGRAPHS[n % 3]}</p></div>' for n in range(items))
    return ('<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Tuyên giáo các cấp</title></head><body>'
            + header() + '<main><div class="d-flex"><div class="flex-fill"><h1 class="category-title">'
            f'<a href="/tuyen-giao-cac-cap">Tuyên giáo các cấp</a></h1>{entries}'
            '<ul class="pagination"><li><a href="?page=2">2</a></li></ul></div>' + sidebar_and_footer())


def chrome_only_page() -> str:
    return ('<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Ban Tuyên giáo Trung ương</title></head>'
            '<body>' + header() + '<main><div class="d-flex"><div class="flex-fill"></div>' + sidebar_and_footer())


def portal_page() -> str:
    """A provincial SharePoint page like seed 003: title first, "Ảnh: …" captions, byline, "Tin khác"."""
    others = "".join(f"<p>- <a href='/Pages/tin-{n}.aspx'>{t}</a></p>" for n, t in enumerate(OTHER_NEWS))
    return ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            '<title>Tin hoạt động</title></head><body><form id="aspnetForm"><table class="layout-header"><tr><td>'
            '<span>BAN TUYÊN GIÁO TỈNH ỦY</span></td><td class="today">Thứ Sáu, ngày 10/01/2025</td></tr></table>'
            '<div class="main-col"><div class="article-detail">'
            f'<h1 class="news-title">{TITLE}</h1><div class="news-date">27/12/2024 lúc 16:30 (GMT+7) | '
            '<span class="view-count">Lượt xem: 1.702</span></div><div class="ms-rtestate-field">'
            f"<p>{PARAGRAPHS[0]}</p><p><img src='/PublishingImages/a.jpg' alt=''></p><p><em>Ảnh: {CAPTIONS[0]}</em></p>"
            f"<p>{PARAGRAPHS[1]}</p><p>{PARAGRAPHS[2]}</p><p style='text-align:right'><strong>Như Uyên</strong></p>"
            f"<p><strong>Tin khác</strong></p>{others}</div></div></div>"
            '<div class="box"><div class="box-title">Thống kê truy cập</div><table><tr><td>Đã truy cập:</td>'
            "<td>2.300.354</td></tr></table></div><div>null</div></form></body></html>")


def nukeviet_page(author_line: str = "Tác giả: Phương Thảo") -> str:
    """A NukeViet 4 news page: span.h5 date, div.hometext lead, #news-bodyhtml, p.h5.text-right bylines."""
    return ('<html lang="vi"><head><title>' + TITLE + ' - Hoạt động tuyên giáo - Ban Tuyên giáo Tỉnh ủy</title>'
            '<meta charset="utf-8"></head><body><ul class="nav"><li><a href="/news/hoat-dong-tuyen-giao/">Hoạt động '
            'tuyên giáo</a></li></ul><div class="news_column panel" itemtype="http://schema.org/NewsArticle">'
            f'<div class="panel-body"><h1 class="title">{TITLE}</h1><div class="row">'
            '<span class="h5">Thứ hai - 15/03/2016 04:35</span>'
            '<ul class="list-inline"><li><a href="/print">In ra</a></li><li>Lượt xem: 873</li></ul></div>'
            f'<div class="hometext">{LEAD}</div><div id="news-bodyhtml" class="bodytext margin-bottom-lg">'
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
            + "<ul>" + "".join(f"<li>{i}</li>" for i in ITEMS) + "</ul></div>"
            f'<div class="margin-bottom-lg"><p class="h5 text-right"><strong>{author_line.split(":")[0]}: </strong>'
            f'{author_line.split(":", 1)[1].strip()}</p><p class="h5 text-right"><strong>Nguồn tin: </strong>'
            "Ban Tuyên giáo Huyện ủy Cam Lộ</p></div></div></div><div class=\"news_column\"><p class=\"h3\"><strong>"
            f"Những tin cũ hơn</strong></p><ul class=\"related\"><li><a href=\"/news/a-1.html\">{OTHER_NEWS[0]}</a>"
            "</li></ul></div></body></html>")


def test_pages_carry_their_chrome() -> None:
    """The builders are only useful if the chrome the tests keep out is really on the pages."""
    page = tuyengiao_page()
    for line in ("Phản hồi", "Các tin khác", "Thư viện ảnh", "Liên kết website", "Mới nhất", TODAY, LATEST):
        assert line in page
    assert "Tin khác" in portal_page() and "Thống kê truy cập" in portal_page()
    assert "Những tin cũ hơn" in nukeviet_page() and page.count(CAPTIONS[0]) == 2  # alt text and caption cell
